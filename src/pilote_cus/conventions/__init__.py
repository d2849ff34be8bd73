"""The convention and its lifecycle: elaboration, concertation, deposit, instruction, signature, follow-up,
evaluation, avenant."""
