"""Tests of the Modbus integration."""
