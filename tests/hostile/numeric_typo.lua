-- expect: 3 line 13: column 'x' is a number in 11 of its 12 cells, but here it is '1.5abc'
return { data = { path = "../fixtures/data/numeric_typo.csv", outcome = "y", treatment = "t", control = "0", x = { "x*" } },
  estimators = { diff_in_means = {} } }
