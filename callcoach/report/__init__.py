"""Reports: view models for the templates, HTML rendering, SVG charts, CSV and RTTM export."""
