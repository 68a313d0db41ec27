"""Renderers of plans: terminal table, CSV, JSON, HTML, XLSX."""
