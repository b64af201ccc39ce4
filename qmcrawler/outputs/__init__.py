"""What people receive: the HTML report, the Atom feed, notification digests."""
