"""What the pytest plugin stands on: targets, tagged resources, expectations, results."""
