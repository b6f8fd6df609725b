print("rmi-check")
