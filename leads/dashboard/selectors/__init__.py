"""The dashboard's reads: `leads` (the list, a lead's parts), `facts` (the facts panel),
`metrics` (the metrics page)."""
