"""HTTP interfaces: the widget's API (`api`) and the sales dashboard (`dashboard`, `metrics`)."""
