"""Correction requests (补卡): a person asks for a missing or wrong punch; a manager decides."""
