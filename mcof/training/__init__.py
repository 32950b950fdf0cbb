"""Training machinery shared by the three networks: device choice, checkpoints, the epoch loop."""
