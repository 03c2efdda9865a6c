"""Request and response bodies, separate from the tables: the API's contract is its own. One
module per router; ``common`` holds the base classes and field types they share."""
