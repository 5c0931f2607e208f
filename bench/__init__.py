"""The fleet benchmark: seeding, the wrk mix and the report (`make bench`)."""
