"""HTTP routes: validate, call a service, shape the response."""
