"""What Divar's rules ask of stored chat content: encryption at rest, masking, retention."""
