"""kalshi_margin_stream."""
