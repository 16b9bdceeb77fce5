"""The local AWS stack behind `make run` and the tests: the emulator (moto) on loopback with
persistence and real Cognito checks, resources created from the code's own definitions,
and the local API gateway."""
