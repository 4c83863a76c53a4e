"""LaTeX side: project files, floats, graphics and \\ref-grounded mentions."""
