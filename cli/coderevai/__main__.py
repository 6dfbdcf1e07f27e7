from coderevai.main import main

main()
