from seesaw.configserver.main import main

main()
