namespace npushare::scheduling {}
