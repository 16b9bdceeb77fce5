"""Django-free pieces shared by both domains and both faces: configuration and errors."""
