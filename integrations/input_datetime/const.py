"""Constants of input_datetime."""

DOMAIN = "input_datetime"
CONF_HAS_DATE = "has_date"
CONF_HAS_TIME = "has_time"
CONF_INITIAL = "initial"
DEFAULT_DATE = "1970-01-01"
DEFAULT_TIME = "00:00:00"
