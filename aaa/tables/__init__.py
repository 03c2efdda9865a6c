"""The database tables, one module per domain. Tables reference one another (a lease names its
service, a session its NAS), so they sit below every domain package: ipam can name the service
table without importing the subscribers package, and no two domains import each other."""
