"""What to fetch and how to read a download.

URL identity, list strategies, status classes, attachment files, fetch and speed options.
"""
