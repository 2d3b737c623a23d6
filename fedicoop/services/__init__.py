"""Services: the operations on a node, shared by the API, the CLI and the web pages."""
