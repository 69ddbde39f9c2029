from seesaw.ecu.main import main

main()
