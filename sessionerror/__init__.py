"""sessionerror: the SessionError reference model, pytest fixtures, factories and checker."""
