"""The runner child process: loads the analysis model once and runs one job at a time."""
