"""Entry points that sit above the Application: the command line and the offline console."""
