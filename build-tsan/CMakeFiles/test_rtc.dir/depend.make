# Empty dependencies file for test_rtc.
# This may be replaced when dependencies are built.
