"""`hashigo migrate db`: move a PostgreSQL or SQLite database to PostgreSQL, verified, with cutover and rollback."""
