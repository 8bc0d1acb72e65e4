"""The runner child process: holds the analysis model and runs one job at a time."""
