from seesaw.ncc.main import main

main()
