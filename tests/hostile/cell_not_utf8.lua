-- expect: 3 column 'x' is a number in 19 of its 20 cells
return { data = { path = "csv/cell_not_utf8.csv", outcome = "y", treatment = "t", control = "0", x = { "x*" } },
  estimators = { diff_in_means = {} } }
