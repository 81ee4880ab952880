"""What an application imports at run time: the repository and the 7-day retention job."""
