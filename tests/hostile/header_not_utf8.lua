-- expect: 3 header field 4 is not valid UTF-8
return { data = { path = "csv/header_not_utf8.csv", outcome = "y", treatment = "t", control = "0", x = { "x*" } },
  estimators = { diff_in_means = {} } }
