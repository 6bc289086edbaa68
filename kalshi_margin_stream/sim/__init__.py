"""Simulated Kalshi margin exchange: a pure engine and a server speaking the real protocol."""
