-- expect: 3 but here it is '1e'
return { data = { path = "csv/exponent_cut.csv", outcome = "y", treatment = "t", control = "0", x = { "x*" } },
  estimators = { diff_in_means = {} } }
