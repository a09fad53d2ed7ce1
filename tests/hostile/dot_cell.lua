-- expect: 3 but here it is '.'
return { data = { path = "csv/dot_cell.csv", outcome = "y", treatment = "t", control = "0", x = { "x*" } },
  estimators = { diff_in_means = {} } }
