"""Reading and writing run directories."""
