-- expect: 0 check       ok
return { data = { path = "csv/numeric_typo.csv", outcome = "y", treatment = "t", control = "0", x = { "x*" }, categorical = { "x" } },
  estimators = { diff_in_means = {} } }
