"""Engine set-up every part can reach (bottom layer): SQLite engines that honour the contract."""
