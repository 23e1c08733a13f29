"""Pages of the pedagogy app (thin: each calls one service or selector)."""
