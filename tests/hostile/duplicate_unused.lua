-- expect: 3 duplicate column name 'z'
return { data = { path = "../fixtures/data/duplicate_unused.csv", outcome = "y", treatment = "t", control = "0", x = { "x*" } },
  estimators = { diff_in_means = {} } }
