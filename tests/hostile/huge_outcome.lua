-- expect: 3 outcome column 'y' has 1e+300
return { data = { path = "../fixtures/data/huge_outcome.csv", outcome = "y", treatment = "t", control = "0", x = { "x*" } },
  estimators = { diff_in_means = {} } }
