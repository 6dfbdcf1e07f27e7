# A Rails controller written the wrong way on purpose: each line marked VULN holds one class.
class PostsController < ApplicationController
  def index
    @posts = Post.where("title LIKE '%#{params[:q]}%'") # VULN sql
    @sorted = Post.order(params[:sort]) # VULN sql
  end

  def export
    system("tar czf /tmp/export.tgz #{params[:dir]}") # VULN command
    `convert #{params[:image]} thumb.png` # VULN command
  end

  def restore
    state = Marshal.load(Base64.decode64(cookies[:state])) # VULN deserialisation
    config = YAML.load(params[:config]) # VULN deserialisation
  end

  def preview
    render inline: params[:body] # VULN template
  end

  def greet
    render html: "<p>Hi #{params[:name]}</p>".html_safe # VULN xss
  end

  def back
    redirect_to params[:return_to] # VULN redirect
  end

  def fetch
    body = Net::HTTP.get(URI(params[:feed])) # VULN ssrf
  end

  def download
    send_file "/srv/files/#{params[:name]}" # VULN path
  end

  def report
    klass = params[:type].constantize # VULN code
  end

  def login
    digest = Digest::MD5.hexdigest(params[:password]) # VULN weak-hash
  end

  def parse
    Nokogiri::XML(request.body.read) { |config| config.noent } # VULN xxe
  end

  def insecure
    http = Net::HTTP.new('api.example.test', 443)
    http.verify_mode = OpenSSL::SSL::VERIFY_NONE # VULN tls
  end

  def show
    @post = Post.find(params[:id])
  end
end
