"""Constants of the template integration."""

DOMAIN = "template"

CONF_SENSOR = "sensor"
CONF_BINARY_SENSOR = "binary_sensor"
CONF_TRIGGERS = "triggers"
CONF_CONDITIONS = "conditions"
CONF_VARIABLES = "variables"
CONF_STATE = "state"
CONF_AVAILABILITY = "availability"
CONF_ATTRIBUTES = "attributes"
CONF_ICON = "icon"
CONF_NAME = "name"
CONF_UNIQUE_ID = "unique_id"
CONF_DELAY_ON = "delay_on"
CONF_DELAY_OFF = "delay_off"
CONF_AUTO_OFF = "auto_off"

# Home Assistant's singular spellings, accepted as aliases of the plural keys.
KEY_ALIASES = {"trigger": CONF_TRIGGERS, "condition": CONF_CONDITIONS}
