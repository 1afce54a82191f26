"""A believable demo company in Shanghai, seeded through the domain services."""
