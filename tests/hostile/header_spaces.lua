-- expect: 0 x 2 (x1, x2)
return { data = { path = "csv/header_spaces.csv", outcome = "y", treatment = "t", control = "0", x = { "x*" } },
  estimators = { diff_in_means = {} } }
