"""Training: scenarios as exercises, hints, scoring and debriefs. Plain modules (no textual).

- `reference`: what the expert did (the recorded path, the shortest path, the evidence)
- `hints`: the hint policy (each hint costs points)
- `scoring`: a pure function of the training journal
- `session`: a Session that holds the conclusion back until the trainee commits
- `report`: the Markdown training report for the trainer
- `from_journal`: a real incident's journal -> a shareable, redacted scenario
"""
