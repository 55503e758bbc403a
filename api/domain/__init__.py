"""Pure rules of the service standard: no I/O, no clock reads, no framework imports."""
