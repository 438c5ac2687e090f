# ATR000: this file does not parse, so none of its calls are checked
def ask(client:
    return client.chat.completions.create(model="gpt-4o")
