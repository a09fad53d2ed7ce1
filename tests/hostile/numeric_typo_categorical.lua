-- expect: 0 check       ok
return { data = { path = "../fixtures/data/numeric_typo.csv", outcome = "y", treatment = "t", control = "0", x = { "x*" }, categorical = { "x" } },
  estimators = { diff_in_means = {} } }
