"""Security proofs on the Home Assistant side: authorization, fuzzing, secrets."""
