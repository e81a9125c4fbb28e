"""`hashigo migrate storage SRC DST`: copy every object between any two store URLs, verified and resumable."""
